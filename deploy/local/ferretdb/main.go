// Command ferretdb-local runs FerretDB v1 with the SQLite backend for the local stack and tests.
//
// The upstream command cannot be installed with `go install …/cmd/ferretdb@v1.24.1` (it panics at
// start on a missing generated version file), so this module embeds the library instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// sqlitePragmas are added to FerretDB's own (busy timeout, WAL journal, no auto-vacuum).
//
// synchronous=normal: in WAL mode SQLite then syncs the log at each checkpoint instead of at
// each commit. The database stays consistent whatever happens; a FerretDB crash loses nothing
// (the writes are the kernel's); a power loss may lose the last transactions. MongoDB's own
// default (w:1, journal written every 100 ms) makes the same trade. Unpatched, every update
// statement is its own SQLite transaction (sqlite-update-by-id.patch makes a command of updates by
// _id one), and the sync per commit was about half an update's cost: 0.68-0.72 ms per update in
// bulk, 0.34-0.37 ms with this pragma.
const sqlitePragmas = "_pragma=synchronous(normal)"

// gcPercent is Go's GOGC for this process: the collector runs when the heap has grown by this
// share since the last collection (Go's default: 100). FerretDB's live heap is small and every
// command leaves much short-lived garbage: at 100, a perf profile of FerretDB during
// `python -m benchmarks.contact` put 9.2 % of its CPU in the collector's mark workers; at 400,
// 1.7 %, with a resident size of 57 MB. A GOGC in the environment still wins.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}

	listen := flag.String("listen-addr", "127.0.0.1:27017", "address to listen on")
	dir := flag.String("sqlite-dir", "data", "directory of the SQLite databases")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()

	if *version {
		fmt.Println("FerretDB v1.24.0 (SQLite backend, embedded, patched: _id index, _id $in, updates and upserts by _id, debug log, resource tracking, sjson decoding, sorted update keys; synchronous=normal, GOGC 400)")
		return
	}

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatalf("cannot create the SQLite directory: %v", err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/?" + sqlitePragmas,
	})
	if err != nil {
		log.Fatalf("cannot configure FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	log.Printf("FerretDB listening on %s, data in %s", *listen, *dir)
	if err := f.Run(ctx); err != nil {
		log.Fatalf("FerretDB stopped: %v", err)
	}
}

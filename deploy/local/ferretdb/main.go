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
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "address to listen on")
	dir := flag.String("sqlite-dir", "data", "directory of the SQLite databases")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()

	if *version {
		fmt.Println("FerretDB v1.24.0 (SQLite backend, embedded, patched: _id index, _id $in, debug log)")
		return
	}

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatalf("cannot create the SQLite directory: %v", err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
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

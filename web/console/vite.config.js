// Everything the pages need is bundled into dist/ at build time: nothing is fetched from the
// internet when the console runs (dealers' intranets are often offline).
import { defineConfig } from "vite";

export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500, assetsInlineLimit: 0 },
  server: { proxy: { "/api": "http://127.0.0.1:8080", "/console": "http://127.0.0.1:8080" } },
});

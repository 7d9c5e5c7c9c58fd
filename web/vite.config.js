// One build for every staff page: each page is an entry HTML file; shared code is split into
// common chunks under /assets/. `npm run build` (run by scripts/setup.sh) writes web/dist/,
// which the Kefu service serves (service/pages.py). No CDN: everything comes from this build.
import { fileURLToPath, URL } from "node:url";
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

const page = (name) => fileURLToPath(new URL(`./${name}/index.html`, import.meta.url));

export default defineConfig({
  plugins: [vue()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: { console: page("console"), editor: page("editor"), supervisor: page("supervisor") },
    },
  },
  resolve: { alias: { "@shared": fileURLToPath(new URL("./src/shared", import.meta.url)) } },
  server: { proxy: { "/api": { target: "http://127.0.0.1:8080", ws: true } } },
});

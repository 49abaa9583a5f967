import { defineConfig } from 'vite';

// The Rust binary embeds `dist/` and serves it at `/` (any non-/api path falls back to index.html).
// In development, `npm run dev` serves the UI with hot reload and forwards `/api` to a running
// `jiesu serve` (default 127.0.0.1:8080; override with JIESU_API=http://host:port).
const api = process.env.JIESU_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    sourcemap: false,
    // the ECharts chunk (bar, line, heatmap and map charts + SVG renderer, ~640 kB, 215 kB gzipped)
    // is loaded only by the pages with a chart (the scorecard, the dashboard)
    chunkSizeWarningLimit: 700,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: api, changeOrigin: true },
    },
  },
  preview: {
    proxy: {
      '/api': { target: api, changeOrigin: true },
    },
  },
});

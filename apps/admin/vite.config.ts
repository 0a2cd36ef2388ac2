import { tanstackRouter } from '@tanstack/router-plugin/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = 'http://127.0.0.1:3000';

export default defineConfig({
  base: '/admin/',
  plugins: [tanstackRouter({ target: 'react', autoCodeSplitting: true, quoteStyle: 'single' }), react()],
  server: {
    port: 5174,
    strictPort: true,
    proxy: { '/api': api, '/trpc': api },
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});

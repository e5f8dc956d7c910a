import { defineConfig } from 'vite';
import adc from 'adc-compiler/vite';

export default defineConfig({
  plugins: [adc()],
});

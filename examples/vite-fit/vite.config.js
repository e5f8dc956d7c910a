import { defineConfig } from 'vite';
import adc from 'adc/vite';

export default defineConfig({
  plugins: [adc()],
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The real model and real index make integration tests slower than unit tests.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Integration suites share the converted-model cache; forks keep onnxruntime isolated per file.
    pool: 'forks',
  },
});

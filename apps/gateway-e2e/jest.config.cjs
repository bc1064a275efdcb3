module.exports = require('../../jest.preset.cjs').jestProject(__dirname, {
  kind: 'e2e',
  testTimeout: 180_000,
});

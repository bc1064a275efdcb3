// redis: a throwaway redis-server for the specs that need one (store/revoked-tokens.spec.ts).
module.exports = require('../../jest.preset.cjs').jestProject(__dirname, { redis: true });

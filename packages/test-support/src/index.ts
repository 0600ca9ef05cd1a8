export { createTestDatabase, type TestDatabase } from './database.js';
export { testRedisUrl } from './redis.js';
export { uniqueId, freePort, silentLogger, captureLogger, waitFor } from './util.js';
export { createFixtures, type Fixtures } from './fixtures.js';
export { gatewayHeaders, testIdentity } from './gateway-headers.js';

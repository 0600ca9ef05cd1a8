export { createTestDatabase, type TestDatabase } from './database.js';
export { testRedisUrl } from './redis.js';
export { uniqueId, freePort, silentLogger, captureLogger, waitFor } from './util.js';
export { createFixtures, type Fixtures } from './fixtures.js';
export { gatewayHeaders, testIdentity } from './gateway-headers.js';
export { spareRedis, sparePostgres, sparePostgresAvailable, type SpareRedis, type SparePostgres } from './spare-servers.js';
export { startTestIssuer, type TestIssuer, type SignOptions } from './test-issuer.js';
export { createOpenWebUiFixture, type OpenWebUiFixture } from './openwebui-fixture.js';
export { recordFigures } from './matrix-figures.js';

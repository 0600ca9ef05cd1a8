export { createKeyring, parseMasterKeys, type Keyring, type MasterKey } from './keyring.js';
export { generateApiKey, hashApiKey, looksLikeApiKey, API_KEY_PREFIX, type GeneratedApiKey } from './api-key.js';
export { randomSecret } from './random.js';
export { hashPassword, verifyPassword, createDecoyPasswordHash } from './password.js';
export { hashSecret, digestsEqual } from './secret-hash.js';
export { keyCheckValue, verifyMasterKeys, MasterKeyMismatchError, type KeyCheckStore } from './key-check.js';

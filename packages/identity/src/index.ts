export * from './headers.js';
export * from './identity.js';
export { signIdentity, verifyIdentity, canonicalString, type VerifyResult, type SignatureFailure } from './signature.js';
export { encodeIdentityHeaders, decodeIdentityHeaders } from './codec.js';

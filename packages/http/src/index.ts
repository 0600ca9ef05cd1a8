export { AppError, ERROR_CODES, statusOf, type ErrorCode } from './errors.js';
export { problemBody, sendProblem, type Problem } from './problem.js';
export { jsonRpcError, JSON_RPC, type JsonRpcErrorBody } from './json-rpc.js';
export { assignRequestId, isSafeRequestId } from './request-id.middleware.js';
export { handleErrors, type ErrorFormat, type HandleErrorsOptions } from './error.middleware.js';
export { listen, type ListeningServer, type ListenOptions } from './listen.js';
export { requireGatewayIdentity, identityOf, type GatewayIdentityOptions } from './gateway-identity.middleware.js';
export { createSecurityEventRecorder, type SecurityEventRecorder, type SecurityEventSink, type SecurityEventInput } from './security-event.recorder.js';
export { assertUrlAllowed, classifyAddress, urlPolicyRefusal, UrlPolicyError, CONNECT_TIME_POLICY, type UrlPolicy, type AddressClass, type Lookup } from './url-policy.js';

import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@mcpgw/db';
import { createOperationId } from '../domain/tool-name.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** mcpo's error body: `{"detail": {"message": …}}`. */
const ERROR_SCHEMA = {
  type: 'object',
  properties: { detail: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
};

/** Rewrites `#/$defs/X` (and draft-07 `#/definitions/X`) references to where the defs now live. */
function rewriteRefs(value: unknown, prefix: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, prefix));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '$ref' && typeof v === 'string') {
      out[key] = v.replace(/^#\/(\$defs|definitions)\//, `#/components/schemas/${prefix}`);
    } else {
      out[key] = rewriteRefs(v, prefix);
    }
  }
  return out;
}

/**
 * A tool's JSON Schema as an OpenAPI 3.1 schema: the `$schema` line dropped, its `$defs` moved to
 * components (prefixed with the operation id) with the references pointing there, since a
 * reference inside a request body resolves against the whole document.
 */
function toOpenApiSchema(schema: unknown, operationId: string, components: Json): Json {
  if (!isObject(schema)) return { type: 'object' };
  const { $schema: _dialect, $defs, definitions, ...rest } = schema;
  const prefix = `${operationId}__`;
  for (const defs of [$defs, definitions]) {
    if (!isObject(defs)) continue;
    for (const [name, def] of Object.entries(defs)) components[`${prefix}${name}`] = rewriteRefs(def, prefix);
  }
  return rewriteRefs(rest, prefix) as Json;
}

const titleOf = (tool: Tool) => tool.title ?? tool.name.replace(/[_-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase());

/**
 * The OpenAPI document of one server as the caller sees it (mcpo's shape): one POST operation per
 * tool at `/{tool}` relative to `/servers/{server}`, its operationId the tool name (Open WebUI
 * hands it to the model as the function name), the tool's input schema as the JSON request body,
 * its output schema (if any) as the 200 response.
 */
export function buildOpenApiDocument(server: Server, tools: readonly Tool[], basePath: string): Json {
  const components: Json = {};
  const paths: Json = {};
  for (const tool of tools) {
    const operationId = createOperationId(tool.name);
    paths[`/${encodeURIComponent(tool.name)}`] = {
      post: {
        operationId,
        summary: titleOf(tool),
        description: tool.description ?? titleOf(tool),
        requestBody: { required: true, content: { 'application/json': { schema: toOpenApiSchema(tool.inputSchema, operationId, components) } } },
        responses: {
          '200': {
            description: 'The tool result',
            content: { 'application/json': { schema: tool.outputSchema ? toOpenApiSchema(tool.outputSchema, `${operationId}_output`, components) : {} } },
          },
          '404': { description: 'No such tool for this caller', content: { 'application/json': { schema: ERROR_SCHEMA } } },
          '422': { description: 'Invalid arguments', content: { 'application/json': { schema: ERROR_SCHEMA } } },
          '500': { description: 'The tool reported an error', content: { 'application/json': { schema: ERROR_SCHEMA } } },
          '502': { description: 'The upstream server is unavailable', content: { 'application/json': { schema: ERROR_SCHEMA } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: server.name, description: server.description || `Tools of ${server.name}, through mcpgw`, version: '1.0.0' },
    servers: [{ url: basePath }],
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
  };
}

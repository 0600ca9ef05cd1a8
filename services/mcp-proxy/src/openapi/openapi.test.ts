import { describe, expect, it } from 'vitest';
import type { Server } from '@mcpgw/db';
import { buildOpenApiDocument } from './openapi-document.js';
import { renderToolResult } from './openapi-result.js';

const server = { id: 'fs', name: 'Files', description: '' } as Server;

describe('OpenAPI document', () => {
  it("moves a tool schema's $defs to components and points its references there", () => {
    const doc = buildOpenApiDocument(
      server,
      [
        {
          name: 'files.move',
          inputSchema: {
            type: 'object',
            $schema: 'http://json-schema.org/draft-07/schema#',
            properties: { from: { $ref: '#/$defs/Path' }, to: { $ref: '#/$defs/Path' } },
            $defs: { Path: { type: 'string', description: 'A path' } },
          },
        },
      ],
      '/servers/fs',
    ) as { paths: Record<string, { post: { operationId: string; requestBody: { content: Record<string, { schema: unknown }> } } }>; components: { schemas: Record<string, unknown> } };
    const op = doc.paths['/files.move']!.post;
    expect(op.operationId).toMatch(/^files_move_h[0-9a-z]{8}$/);
    expect(op.requestBody.content['application/json']!.schema).toEqual({
      type: 'object',
      properties: { from: { $ref: `#/components/schemas/${op.operationId}__Path` }, to: { $ref: `#/components/schemas/${op.operationId}__Path` } },
    });
    expect(doc.components.schemas[`${op.operationId}__Path`]).toEqual({ type: 'string', description: 'A path' });
  });
});

describe('tool results as OpenAPI responses (mcpo mapping)', () => {
  it('prefers structured content, parses JSON text, unwraps one block and renders media as data URIs', () => {
    expect(renderToolResult({ content: [{ type: 'text', text: '3' }], structuredContent: { sum: 3 } })).toEqual({ sum: 3 });
    expect(renderToolResult({ content: [{ type: 'text', text: '{"a":[1]}' }] })).toEqual({ a: [1] });
    expect(renderToolResult({ content: [{ type: 'text', text: 'plain' }] })).toBe('plain');
    expect(renderToolResult({ content: [{ type: 'text', text: 'x' }, { type: 'image', data: 'AAAA', mimeType: 'image/png' }] })).toEqual(['x', 'data:image/png;base64,AAAA']);
  });
});

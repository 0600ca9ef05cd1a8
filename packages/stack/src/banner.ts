export interface BannerInfo {
  gatewayUrl: string;
  adminKey: string | null;
  adminEmail: string;
  database: string;
  rateLimits: string;
  demo: boolean;
}

/** What a newcomer needs after `npm start`: where things are, the key (once), and a first call. */
export function banner(info: BannerInfo): string {
  const g = info.gatewayUrl;
  const key = info.adminKey ?? '<your mcpgw_ API key>';
  const lines = [
    '',
    '  mcpgw is running',
    '',
    `  Gateway (the only entry point)   ${g}`,
    `  MCP, all your servers            ${g}/mcp`,
    ...(info.demo ? [`  MCP, the demo server             ${g}/mcp/demo`] : []),
    `  Admin portal                     ${g}/mcp-admin`,
    `  Health                           ${g}/gateway/health`,
    '',
    `  Database     ${info.database}`,
    `  Rate limits  ${info.rateLimits}`,
    '',
  ];
  if (info.adminKey) {
    lines.push(
      `  Admin ${info.adminEmail}, API key (shown once, store it now):`,
      '',
      `    ${info.adminKey}`,
      '',
    );
  } else {
    lines.push(`  Admin ${info.adminEmail} exists already; use the API key printed on the first start.`, '');
  }
  if (info.demo) {
    lines.push(
      '  Call a tool with curl (initialize, then call with the session id it returns):',
      '',
      `    KEY=${key}`,
      `    SID=$(curl -s -D - -o /dev/null ${g}/mcp/demo -H "Authorization: Bearer $KEY" \\`,
      `      -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\`,
      `      -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' \\`,
      `      | tr -d '\\r' | awk 'tolower($1)=="mcp-session-id:"{print $2}')`,
      `    curl -s ${g}/mcp/demo -H "Authorization: Bearer $KEY" -H "Mcp-Session-Id: $SID" \\`,
      `      -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\`,
      `      -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_current_time","arguments":{}}}'`,
      '',
    );
  }
  lines.push('  Press Ctrl-C to stop everything.', '');
  return lines.join('\n');
}

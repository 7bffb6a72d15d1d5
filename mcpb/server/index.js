// Entry point of the Claude Desktop extension (stripe-billing-mcp.mcpb): the npm bundle's
// cli.js sits beside this file. Claude Desktop hands the "Enable write tools" setting over as
// MCPB_WRITE_TOOLS="true" or "false", while the server's WRITE_TOOLS takes `all` or tool names:
// this maps the one onto the other and then runs the server with the same arguments.
// Only "true" turns the write tools on; anything else leaves them off.
const writeTools = process.env.MCPB_WRITE_TOOLS === 'true';
delete process.env.MCPB_WRITE_TOOLS;
if (writeTools) process.env.WRITE_TOOLS = 'all';
else delete process.env.WRITE_TOOLS;

await import('./cli.js');

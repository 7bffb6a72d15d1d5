/** The package's version, for --version, the MCP server info and Stripe's appInfo. */
export const SERVER_VERSION = '0.1.0';

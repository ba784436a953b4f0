// Names shared by the harness and its counting MCP server (gateway name = upstream__tool).
export const COUNTER_TOOLS = Array.from({ length: 10 }, (_, i) => `bump_${i}`);
export const COUNTER_TOOL_NAMES = COUNTER_TOOLS.map((t) => `counter__${t}`);
/** Race round r uses counter__bump_r; the kill round and the REST fuzz use the last two. */
export const KILL_TOOL = 'counter__bump_8';
export const FUZZ_TOOL = 'counter__bump_9';

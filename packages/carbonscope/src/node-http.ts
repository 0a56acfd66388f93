// node:http as its CommonJS object, never through an ESM import of it. Node 24 builds an ESM
// import's facade by reading every export, and http.WebSocket's getter loads undici (with
// node:http2 and node:tls) to answer it: 40-65 ms at each start under register, which a CommonJS
// application, or `node -e`, never paid otherwise. process.getBuiltinModule (Node 20.16 on, Bun,
// Deno) hands the object without a facade.
export const nodeHttp = process.getBuiltinModule('node:http');

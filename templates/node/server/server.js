// A starter HTTP server from `nabla-build init --lang node --server`, on Node's own http
// module: no dependencies, so the build needs no npm registry. nabla.json lists its port,
// so the image takes the container's network; `nabla-build run` gives it what it needs and
// prints its URL. Ctrl-C or `docker stop` ends it cleanly.
const http = require('node:http');

const port = Number(process.argv[2] ?? 8080);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('Hello from a nabla unikernel!\n');
});
server.listen(port, '0.0.0.0', () => console.log(`listening on ${port}`));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

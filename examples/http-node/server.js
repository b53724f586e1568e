// An HTTP server on node:http: GET / greets, GET /json answers with JSON. `docker stop`
// sends SIGTERM, which closes the server and ends the process with 0.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
let served = 0;
const server = http.createServer((req, res) => {
  served++;
  if (req.url === '/json') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ served, node: process.version }));
    return;
  }
  res.setHeader('content-type', 'text/plain');
  res.end('Hello from Node.js over HTTP!\n');
});
server.listen(port, '0.0.0.0', () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => {
  console.log(`SIGTERM after ${served} requests: closing`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

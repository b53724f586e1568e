// Express (from npm, installed by `npm ci --omit=dev` at build time) with three routes.
const express = require('express');

const app = express();
app.use(express.json());
app.get('/', (req, res) => res.type('text').send('Hello from Express in a nabla-build image!\n'));
app.get('/add/:a/:b', (req, res) => res.json({ sum: Number(req.params.a) + Number(req.params.b) }));
app.post('/echo', (req, res) => res.json({ got: req.body }));

const server = app.listen(8080, '0.0.0.0', () => console.log('express listening on 8080'));
process.on('SIGTERM', () => {
  console.log('SIGTERM: closing');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

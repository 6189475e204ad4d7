// The image's HEALTHCHECK: GET /readyz of the service in this container; exit 0 when it answers
// 200. The port is HEALTH_LISTEN's, else ingest's INGEST_LISTEN (ingest serves /readyz on its API
// port when HEALTH_LISTEN is unset), else 9464, the default of parse and detect.
const http = require('node:http');

const listen = process.env.HEALTH_LISTEN || process.env.INGEST_LISTEN || '0.0.0.0:9464';
const port = Number(listen.slice(listen.lastIndexOf(':') + 1)) || 9464;
const req = http.get({ host: '127.0.0.1', port, path: '/readyz', timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));

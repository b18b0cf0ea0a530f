// Push lines with winston-loki (snappy-compressed protobuf when `snappy` is installed),
// the way a Node.js service would. Used by tests/e2e: prints a JSON report, exits 1 on
// any transport error.
//   LOKI_HOST=http://127.0.0.1:3100 LOKI_AUTH=user:pass LOKI_LINES='["a","b"]' node push.js
'use strict'
const winston = require('winston')
const LokiTransport = require('winston-loki')

async function main () {
  const lines = JSON.parse(process.env.LOKI_LINES || '[]')
  const errors = []
  const transport = new LokiTransport({
    host: process.env.LOKI_HOST,
    basicAuth: process.env.LOKI_AUTH,
    labels: { service_name: 'winston-e2e', client: 'winston-loki' },
    json: false, // protobuf + snappy
    batching: true,
    interval: 1, // seconds; flush() below waits for the batch to be sent and answered
    replaceTimestamp: false,
    gracefulShutdown: false,
    format: winston.format.printf(i => i.message), // the line is exactly the message
    onConnectionError: (err) => errors.push(String(err && err.message ? err.message : err))
  })
  const logger = winston.createLogger({ transports: [transport] })
  for (const line of lines) {
    logger.info(line)
  }
  await transport.flush()
  transport.close()
  console.log(JSON.stringify({ contentType: transport.batcher.contentType, sent: lines.length, errors }))
  process.exit(errors.length ? 1 : 0)
}

main().catch((err) => { console.error(err); process.exit(2) })

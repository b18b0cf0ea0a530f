// Export log records with the OpenTelemetry JS logs SDK and its OTLP/HTTP exporter, the way a
// Node.js service would: OTLP JSON (@opentelemetry/exporter-logs-otlp-http) or binary protobuf
// (@opentelemetry/exporter-logs-otlp-proto). Used by tests/e2e: prints a JSON report with the
// result of every export, exits 1 if one failed.
//   OTLP_URL=http://127.0.0.1:3100/otlp/v1/logs OTLP_AUTH=user:pass OTLP_PROTOCOL=json|protobuf \
//   OTLP_COMPRESSION=none|gzip OTLP_RUN=abc OTLP_BASE_NS=1767225600000000000 OTLP_LINES='["a"]' node otlp.js
'use strict'
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs')
const { resourceFromAttributes } = require('@opentelemetry/resources')
const { SeverityNumber } = require('@opentelemetry/api-logs')
const { OTLPLogExporter: JsonExporter } = require('@opentelemetry/exporter-logs-otlp-http')
const { OTLPLogExporter: ProtobufExporter } = require('@opentelemetry/exporter-logs-otlp-proto')

// Wraps the real exporter to record what each export returned (the processor discards it).
class RecordingExporter {
  constructor (inner) { this.inner = inner; this.results = [] }
  export (logs, done) {
    this.inner.export(logs, (result) => {
      this.results.push({ code: result.code, error: result.error ? String(result.error.message || result.error) : null })
      done(result)
    })
  }
  forceFlush () { return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve() }
  shutdown () { return this.inner.shutdown() }
}

async function main () {
  const env = process.env
  const lines = JSON.parse(env.OTLP_LINES || '[]')
  const run = env.OTLP_RUN
  const base = BigInt(env.OTLP_BASE_NS)
  const Exporter = env.OTLP_PROTOCOL === 'json' ? JsonExporter : ProtobufExporter
  const exporter = new RecordingExporter(new Exporter({
    url: env.OTLP_URL,
    headers: { Authorization: 'Basic ' + Buffer.from(env.OTLP_AUTH).toString('base64') },
    compression: env.OTLP_COMPRESSION === 'gzip' ? 'gzip' : 'none'
  }))
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': 'otel-js-e2e',
      'service.instance.id': run,
      'deployment.environment.name': 'e2e',
      'process.runtime.name': 'nodejs'
    }),
    processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 512, scheduledDelayMillis: 100 })]
  })
  const logger = provider.getLogger('e2e.otlp.js', '1.2.3')
  lines.forEach((line, i) => {
    const ns = base + BigInt(i)
    logger.emit({
      timestamp: [Number(ns / 1000000000n), Number(ns % 1000000000n)], // HrTime: exact nanoseconds
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: line,
      attributes: {
        'http.status_code': 200 + i,
        ratio: 0.25,
        ok: true,
        tags: ['a', 'b'],
        user: { id: 'u' + i, 'geo.country': 'FR' }
      }
    })
  })
  // A structured body: the line is its JSON rendering (keys sorted).
  logger.emit({
    timestamp: [Number((base + 1000n) / 1000000000n), Number((base + 1000n) % 1000000000n)],
    severityNumber: SeverityNumber.INFO,
    body: { event: 'structured', count: 3, nested: { z: 1, a: [true, null] } }
  })
  await provider.forceFlush()
  await provider.shutdown()
  const failed = exporter.results.filter((r) => r.code !== 0)
  console.log(JSON.stringify({ protocol: env.OTLP_PROTOCOL, exports: exporter.results, sent: lines.length + 1 }))
  process.exit(failed.length || exporter.results.length === 0 ? 1 : 0)
}

main().catch((err) => { console.error(err); process.exit(2) })

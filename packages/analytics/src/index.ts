export { createBatchWriter, type BatchWriter, type BatchWriterOptions, type BatchWriterStats, type BatchSink } from './batch-writer.js';
export { createRetentionPurger, type RetentionPurger, type RetentionOptions } from './retention.js';

// Connectors built on `@weir/core`'s Source and Sink interfaces and nothing else.
export { consoleSink, type ConsoleSinkOptions } from './console-sink.js'
export { formatBatch, showString, type FormatOptions } from './console-format.js'
export { MemorySink, type MemorySinkOptions, type MemoryEpoch } from './memory-sink.js'
export {
  fileSource,
  type FileSourceOptions,
  type FilePosition,
  type DirectoryPosition,
} from './file-source.js'
export { fileSink, type FileSinkOptions } from './file-sink.js'
export {
  embeddedTweets,
  loadTweetTexts,
  tweetCorpusPath,
  type EmbeddedTweetsOptions,
} from './embedded-source.js'
export * from './kafka/index.js'
export { mulberry32, seedFor } from './internal/random.js'

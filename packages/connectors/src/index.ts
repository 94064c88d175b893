// Connectors (console, memory, file, embedded tweets, Kafka) are built on `@weir/core`'s Source and
// Sink interfaces; they arrive with the queries and Kafka issues.
export {}

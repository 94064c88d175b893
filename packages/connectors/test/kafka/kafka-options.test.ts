import test from 'ava'
import { kafkaSink, kafkaSource } from '../../src/index.js'

const brokers = ['localhost:9092']

test('a source needs exactly one of subscribe, subscribePattern, assign', (t) => {
  t.throws(() => kafkaSource({ brokers }), {
    message:
      /give exactly one of subscribe, subscribePattern or assign \(none was given\), e.g. subscribe: \['tweets'\]/,
  })
  t.throws(() => kafkaSource({ brokers, subscribe: ['a'], assign: { a: [0] } }), {
    message: /\(got subscribe and assign\)/,
  })
  t.is(kafkaSource({ brokers, subscribe: 'a, b' }).description, 'KafkaSource[Subscribe[a,b]]')
  t.is(
    kafkaSource({ brokers, subscribePattern: 'tw.*' }).description,
    'KafkaSource[SubscribePattern[^(?:tw.*)$]]',
  )
  t.is(kafkaSource({ brokers, assign: '{"a": [0, 2]}' }).description, 'KafkaSource[Assign[a-0,a-2]]')
})

test('refuses unknown options and wrong values, saying what to write', (t) => {
  t.throws(() => kafkaSource({ brokers, subscribe: ['a'], startingOffset: 'earliest' } as never), {
    message: /unknown option 'startingOffset'; the options are .*'startingOffsets'/,
  })
  t.throws(() => kafkaSource({ subscribe: ['a'] }), {
    message: /say where Kafka is: brokers: \['localhost:9092'\], or pass a client as kafka/,
  })
  t.throws(() => kafkaSource({ brokers: 'localhost', subscribe: ['a'] }), {
    message: /brokers "localhost" must be host:port entries/,
  })
  t.throws(() => kafkaSource({ brokers, subscribe: ['a'], groupMode: true }), {
    message: /groupMode joins one consumer group over every process: name it, e.g. groupId/,
  })
  t.throws(() => kafkaSource({ brokers, assign: { a: [0] }, groupMode: true, groupId: 'g' }), {
    message: /use subscribe or subscribePattern instead of assign/,
  })
  t.throws(() => kafkaSource({ brokers, subscribe: ['a'], maxOffsetsPerTrigger: 0 }), {
    message: /maxOffsetsPerTrigger 0 must be a whole number >= 1/,
  })
  t.throws(() => kafkaSource({ brokers, subscribe: ['a'], kafka: {} as never }), {
    message: /kafka must be a client with consumer\(\), producer\(\) and admin\(\)/,
  })
  t.false(kafkaSource({ brokers, subscribe: ['a'] }).bounded)
  t.true(kafkaSource({ brokers, subscribe: ['a'], endingOffsets: 'latest' }).bounded)
})

test('a sink checks its topic, functions and settings', (t) => {
  t.throws(() => kafkaSink({ brokers, topic: 'no spaces' }), {
    message: /topic "no spaces" must be a topic name/,
  })
  t.throws(() => kafkaSink({ brokers, topic: 't', key: 'word' as never }), {
    message: /key must be a function of the row/,
  })
  t.throws(() => kafkaSink({ brokers, topic: 't', acks: 2 as never }), {
    message: /acks 2 must be 'all', -1, 0 or 1/,
  })
  t.throws(() => kafkaSink({ brokers, topic: 't', compression: 'snappy' as never }), {
    message: /compression "snappy" must be 'none' or 'gzip'/,
  })
  t.is(kafkaSink({ brokers, topic: 't' }).description, 'KafkaSink[t]')
})

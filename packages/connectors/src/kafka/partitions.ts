import { AssignerProtocol, type PartitionAssigner } from 'kafkajs'
import type { TopicPartitions } from './client.js'

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** A partition's split id, `topic-partition`: the key of its position in snapshots. */
export function splitOf(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`
}

/** Sorted by topic name, then partition number. */
export function sortPartitions(list: Iterable<TopicPartition>): TopicPartition[] {
  return [...list].sort((a, b) =>
    a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
  )
}

/**
 * The partitions instance `instance` of `parallelism` reads when weir places them itself: those whose
 * index in the sorted (topic, partition) list is congruent to `instance` modulo `parallelism`, so the
 * partitions of one topic spread evenly over the instances.
 *
 * @example
 * ```ts
 * partitionsOfInstance([t0, t1, t2, t3], 1, 2) // [t1, t3]
 * ```
 */
export function partitionsOfInstance(
  all: Iterable<TopicPartition>,
  instance: number,
  parallelism: number,
): TopicPartition[] {
  return sortPartitions(all).filter((_, i) => i % parallelism === instance)
}

/** Grouped by topic, as kafkajs's pause/resume take them. */
export function byTopic(list: Iterable<TopicPartition>): TopicPartitions[] {
  const topics = new Map<string, number[]>()
  for (const { topic, partition } of list) {
    const partitions = topics.get(topic)
    if (partitions) partitions.push(partition)
    else topics.set(topic, [partition])
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }))
}

/**
 * A kafkajs partition assigner that gives the partitions `select` picks from all partitions of the
 * subscribed topics to one member (the first by member id) and nothing to the others. With one
 * consumer group per source instance, this is how an instance gets exactly its own partitions
 * (kafkajs has no manual `assign()`); a rejoin after new partitions appear calls it again.
 */
export function fixedAssigner(select: (all: TopicPartition[]) => TopicPartition[]): PartitionAssigner {
  const name = 'WeirFixedAssigner'
  return ({ cluster }) => ({
    name,
    version: 0,
    assign({ members, topics }) {
      const all = topics.flatMap((topic) =>
        cluster.findTopicPartitionMetadata(topic).map((m) => ({ topic, partition: m.partitionId })),
      )
      const assignment: Record<string, number[]> = {}
      for (const { topic, partition } of select(all)) (assignment[topic] ??= []).push(partition)
      const [first] = members.map((m) => m.memberId).sort()
      if (first === undefined) return Promise.resolve([])
      return Promise.resolve([
        {
          memberId: first,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 0,
            assignment,
            userData: Buffer.alloc(0),
          }),
        },
      ])
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
      }
    },
  })
}

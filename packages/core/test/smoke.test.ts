import test from 'ava'

test('runs on Node 20 or later', (t) => {
  const major = Number(process.versions.node.split('.')[0])
  t.true(major >= 20, `Node ${process.versions.node} is older than 20`)
})

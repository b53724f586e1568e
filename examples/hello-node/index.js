// Prints a greeting and its arguments; `--exit=N` sets the exit code.
console.log('Hello from Node.js in a nabla-build image!');
process.argv.slice(2).forEach((arg, i) => {
  console.log(`arg ${i + 1}: ${arg}`);
  const exit = /^--exit=(\d+)$/.exec(arg);
  if (exit) process.exitCode = Number(exit[1]);
});

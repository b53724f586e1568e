// A starter app from `nabla-build init --lang node`: prints a line and its arguments.
console.log('Hello from a nabla unikernel!');
process.argv.slice(2).forEach((arg, i) => console.log(`arg ${i + 1}: ${arg}`));

#!/usr/bin/env node
// The bundled CLI (npm run build writes dist/); see src/cli/main.ts.
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));

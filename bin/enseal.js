#!/usr/bin/env node
// The `enseal` command: runs the CLI compiled to dist/ (`npm run build` creates it).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// Installed entry point: the bundled CLI (npm run build writes dist/cli.js).
import "../dist/cli.js";

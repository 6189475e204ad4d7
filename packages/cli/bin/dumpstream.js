#!/usr/bin/env node
'use strict';
// The command npm links into node_modules/.bin at install time, before `prepare` builds dist/:
// npm links no bin whose file is missing then, so this one is kept in the repository.
require('../dist/main.js');

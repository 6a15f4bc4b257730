import { benchDownloadRss } from './download-rss.js';

/**
 * The download-memory figure in a process of its own: RSS is a whole-process number, and in
 * `npm run bench`'s process it also moved with whatever the sections before it left for the
 * collector (17 MB one run, 35 MB the next, 1 MB alone). Prints the figures as JSON on stdout.
 */
process.stdout.write(`${JSON.stringify(await benchDownloadRss())}\n`);

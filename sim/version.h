/* version.h — the one place bitsim's version lives.
 *
 * The release number comes from the Makefile (VERSION) and the commit from git at build time
 * (BUILD_REV); both are baked into version.o only, so `bitsim --version`, the provenance line
 * of generated traces and the tool version the store records with every run are one string.
 */
#ifndef BITSIM_VERSION_H
#define BITSIM_VERSION_H

/* "0.1.0": the release. */
const char *version_release(void);
/* "0.1.0+380281afc109": release and build commit, as stored with every run (a rerun of the
 * same inputs is recognised only under the same tool version). */
const char *version_tool(void);

#endif

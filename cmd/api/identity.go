package main

import (
	"log"
	"os"

	"fraudknn/artifact"
)

// pinnedDigest reads -digest: the SHA-256 the operator pinned, zero when
// none was given. A value that is not a digest stops the program (exit 2).
func pinnedDigest() artifact.Digest {
	if *digest == "" {
		return artifact.Digest{}
	}
	d, err := artifact.ParseDigest(*digest)
	if err != nil {
		log.New(os.Stderr, "api: ", 0).Printf("-digest: %v", err)
		os.Exit(2)
	}
	return d
}

// checkIdentity refuses (exit 1) an artifact whose digest is not the
// pinned one, naming both. Without a pin it says which file it serves,
// and compares it with the record cmd/indexer wrote beside it: that
// record is not a pin (whoever can replace the artifact can replace the
// record), so a difference is reported, not refused.
func checkIdentity(a *artifact.Artifact, pinned artifact.Digest, logger *log.Logger) {
	if err := a.CheckPin(*artifactPath, pinned); err != nil {
		logger.Printf("cannot serve: %v", err)
		a.Close()
		os.Exit(1)
	}
	if !pinned.IsZero() {
		logger.Printf("artifact sha256 %s: the pinned digest", a.SHA256)
		return
	}
	logger.Printf("artifact sha256 %s (not pinned: -digest refuses any other file)", a.SHA256)
	recorded, err := artifact.ReadDigestFile(*artifactPath)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		logger.Printf("WARNING: %v", err)
	case recorded != a.SHA256:
		logger.Printf("WARNING: %s records sha256 %s, but the artifact served has %s: the file changed after cmd/indexer wrote it", artifact.DigestPath(*artifactPath), recorded, a.SHA256)
	}
}

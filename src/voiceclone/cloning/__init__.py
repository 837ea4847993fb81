"""Speaker embeddings (d-vectors), shared by the engines and the consent check."""

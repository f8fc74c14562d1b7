"""Where archives come from: the local index, downloads into it, and pip's finder in process."""

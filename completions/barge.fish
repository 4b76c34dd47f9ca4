complete --keep-order --exclusive --command barge --arguments "(_BARGE_COMPLETE=fish barge -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"

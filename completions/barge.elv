
set edit:completion:arg-completer[barge] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) _BARGE_COMPLETE="elvish" barge -- $@words) | to-lines
}


# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_barge_global_optspecs
    string join \n root= debug h/help V/version
end

function __fish_barge_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_barge_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_barge_using_subcommand
    set -l cmd (__fish_barge_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c barge -n "__fish_barge_needs_command" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_needs_command" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c barge -n "__fish_barge_needs_command" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_needs_command" -f -a "import" -d 'Import an image archive (docker save, OCI layout) or a root filesystem tarball'
complete -c barge -n "__fish_barge_needs_command" -f -a "load" -d 'Import an image archive (docker save, OCI layout) or a root filesystem tarball'
complete -c barge -n "__fish_barge_needs_command" -f -a "run" -d 'Create and run a container from an image, in the foreground'
complete -c barge -n "__fish_barge_needs_command" -f -a "create" -d 'Create a container (stopped) from an image; prints its ID'
complete -c barge -n "__fish_barge_needs_command" -f -a "start" -d 'Start stopped containers in the background'
complete -c barge -n "__fish_barge_needs_command" -f -a "stop" -d 'Stop running containers (stop signal, then SIGKILL)'
complete -c barge -n "__fish_barge_needs_command" -f -a "kill" -d 'Send a signal to running containers'
complete -c barge -n "__fish_barge_needs_command" -f -a "restart" -d 'Restart containers'
complete -c barge -n "__fish_barge_needs_command" -f -a "rm" -d 'Remove containers'
complete -c barge -n "__fish_barge_needs_command" -f -a "ps" -d 'List containers'
complete -c barge -n "__fish_barge_needs_command" -f -a "exec" -d 'Run a command in a running container'
complete -c barge -n "__fish_barge_needs_command" -f -a "cp" -d 'Copy files between a container and the host'
complete -c barge -n "__fish_barge_needs_command" -f -a "export" -d 'Write a container\'s filesystem as a tar archive'
complete -c barge -n "__fish_barge_needs_command" -f -a "pause" -d 'Pause all processes of containers (cgroup freezer)'
complete -c barge -n "__fish_barge_needs_command" -f -a "unpause" -d 'Unpause containers'
complete -c barge -n "__fish_barge_needs_command" -f -a "stats" -d 'Show CPU, memory and pids use of running containers'
complete -c barge -n "__fish_barge_needs_command" -f -a "logs" -d 'Show a container\'s output'
complete -c barge -n "__fish_barge_needs_command" -f -a "wait" -d 'Wait for containers to stop, then print their exit codes'
complete -c barge -n "__fish_barge_needs_command" -f -a "rename" -d 'Rename a container'
complete -c barge -n "__fish_barge_needs_command" -f -a "top" -d 'Show the processes of a running container'
complete -c barge -n "__fish_barge_needs_command" -f -a "port" -d 'List a container\'s published ports, or the host address of one port'
complete -c barge -n "__fish_barge_needs_command" -f -a "container" -d 'Manage containers'
complete -c barge -n "__fish_barge_needs_command" -f -a "images" -d 'List images'
complete -c barge -n "__fish_barge_needs_command" -f -a "image" -d 'Manage images'
complete -c barge -n "__fish_barge_needs_command" -f -a "rmi" -d 'Remove one or more images'
complete -c barge -n "__fish_barge_needs_command" -f -a "tag" -d 'Create a tag TARGET that refers to SOURCE'
complete -c barge -n "__fish_barge_needs_command" -f -a "inspect" -d 'Show low-level information on images, as JSON'
complete -c barge -n "__fish_barge_needs_command" -f -a "history" -d 'Show the history of an image'
complete -c barge -n "__fish_barge_needs_command" -f -a "save" -d 'Save images to a docker save archive (tar)'
complete -c barge -n "__fish_barge_needs_command" -f -a "volume" -d 'Manage named volumes'
complete -c barge -n "__fish_barge_needs_command" -f -a "network" -d 'Manage networks'
complete -c barge -n "__fish_barge_needs_command" -f -a "system" -d 'Manage barge itself'
complete -c barge -n "__fish_barge_needs_command" -f -a "oci" -d 'Low-level, runc-compatible runtime commands (for podman --runtime and the OCI tests)'
complete -c barge -n "__fish_barge_needs_command" -f -a "__supervise" -d 'Watch a detached container (started by barge itself)'
complete -c barge -n "__fish_barge_needs_command" -f -a "__generate" -d 'Write shell completions and man pages generated from these definitions'
complete -c barge -n "__fish_barge_using_subcommand import" -s i -l input -d 'Archive to read (as `docker load -i`)' -r
complete -c barge -n "__fish_barge_using_subcommand import" -s t -l tag -d 'Add a tag to the imported image (repeatable)' -r
complete -c barge -n "__fish_barge_using_subcommand import" -l platform -d 'Image to take from a multi-platform archive, os/arch[/variant]' -r
complete -c barge -n "__fish_barge_using_subcommand import" -s m -l message -d 'History comment for a root filesystem import' -r
complete -c barge -n "__fish_barge_using_subcommand import" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand import" -s q -l quiet -d 'No progress output'
complete -c barge -n "__fish_barge_using_subcommand import" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand import" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand import" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand load" -s i -l input -d 'Archive to read (as `docker load -i`)' -r
complete -c barge -n "__fish_barge_using_subcommand load" -s t -l tag -d 'Add a tag to the imported image (repeatable)' -r
complete -c barge -n "__fish_barge_using_subcommand load" -l platform -d 'Image to take from a multi-platform archive, os/arch[/variant]' -r
complete -c barge -n "__fish_barge_using_subcommand load" -s m -l message -d 'History comment for a root filesystem import' -r
complete -c barge -n "__fish_barge_using_subcommand load" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand load" -s q -l quiet -d 'No progress output'
complete -c barge -n "__fish_barge_using_subcommand load" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand load" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand load" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand run" -l name -d 'Assign a name to the container' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l restart -d 'Restart policy: no, on-failure[:max-retries], always, unless-stopped' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l log-opt -d 'Log options: max-size=10m, max-file=3' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l stop-signal -d 'Signal to stop the container (default SIGTERM or the image\'s STOPSIGNAL)' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l stop-timeout -d 'Seconds to wait for the stop signal before killing (default 10)' -r
complete -c barge -n "__fish_barge_using_subcommand run" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to take it from barge\'s environment)' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l env-file -d 'Read environment variables from a file (KEY=VALUE lines)' -r -F
complete -c barge -n "__fish_barge_using_subcommand run" -s w -l workdir -d 'Working directory inside the container' -r
complete -c barge -n "__fish_barge_using_subcommand run" -s u -l user -d 'Username or UID (format: name|uid[:group|gid])' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l group-add -d 'Add additional groups to join' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l entrypoint -d 'Overwrite the default ENTRYPOINT of the image ("" clears it)' -r
complete -c barge -n "__fish_barge_using_subcommand run" -s h -l hostname -d 'Container host name' -r
complete -c barge -n "__fish_barge_using_subcommand run" -s v -l volume -d 'Bind mount a volume: HOST-PATH:CONTAINER-PATH[:ro|rw] or NAME:CONTAINER-PATH[:ro]' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l mount -d 'Attach a mount: type=bind|volume|tmpfs,source=...,target=...[,readonly]' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l tmpfs -d 'Mount a tmpfs directory: PATH[:OPTIONS]' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l cap-add -d 'Add Linux capabilities' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l cap-drop -d 'Drop Linux capabilities' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l security-opt -d 'Security options: no-new-privileges, seccomp=unconfined, seccomp=FILE.json' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l ulimit -d 'Ulimit options: NAME=SOFT[:HARD]' -r
complete -c barge -n "__fish_barge_using_subcommand run" -s m -l memory -d 'Memory limit (e.g. 64m, 1g)' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l memory-swap -d 'Memory + swap limit (-1: unlimited swap)' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l cpus -d 'Number of CPUs' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l pids-limit -d 'Tune the container\'s pids limit (-1 for unlimited)' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l device -d 'Add a host device: HOST[:CONTAINER[:PERMISSIONS]]' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l network -d 'Network mode: bridge (the default), none or host' -r
complete -c barge -n "__fish_barge_using_subcommand run" -s p -l publish -d 'Publish a container\'s port to the host: [IP:][HOST:]CONTAINER[/tcp|udp], ranges allowed' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l add-host -d 'Add a line to /etc/hosts: NAME:IP' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l dns -d 'DNS server for /etc/resolv.conf (replaces the host\'s)' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l platform -d 'Platform the image must have, os/arch[/variant]' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l pull -d 'When to pull the image: missing (default), never, always' -r
complete -c barge -n "__fish_barge_using_subcommand run" -l sig-proxy -d 'Proxy received signals to the process' -r -f -a "true\t''
false\t''"
complete -c barge -n "__fish_barge_using_subcommand run" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand run" -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand run" -s d -l detach -d 'Run in the background and print the container ID'
complete -c barge -n "__fish_barge_using_subcommand run" -l rm -d 'Remove the container when it exits'
complete -c barge -n "__fish_barge_using_subcommand run" -s i -l interactive -d 'Keep STDIN open'
complete -c barge -n "__fish_barge_using_subcommand run" -s t -l tty -d 'Allocate a pseudo-TTY'
complete -c barge -n "__fish_barge_using_subcommand run" -l read-only -d 'Mount the container\'s root filesystem as read only'
complete -c barge -n "__fish_barge_using_subcommand run" -l privileged -d 'Give extended privileges to this container'
complete -c barge -n "__fish_barge_using_subcommand run" -s P -l publish-all -d 'Publish all the image\'s exposed ports to random host ports'
complete -c barge -n "__fish_barge_using_subcommand run" -l init -d 'Run an init inside the container that forwards signals and reaps processes'
complete -c barge -n "__fish_barge_using_subcommand run" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand run" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand create" -l name -d 'Assign a name to the container' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l restart -d 'Restart policy: no, on-failure[:max-retries], always, unless-stopped' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l log-opt -d 'Log options: max-size=10m, max-file=3' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l stop-signal -d 'Signal to stop the container (default SIGTERM or the image\'s STOPSIGNAL)' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l stop-timeout -d 'Seconds to wait for the stop signal before killing (default 10)' -r
complete -c barge -n "__fish_barge_using_subcommand create" -s e -l env -d 'Set environment variables (KEY=VALUE, or KEY to take it from barge\'s environment)' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l env-file -d 'Read environment variables from a file (KEY=VALUE lines)' -r -F
complete -c barge -n "__fish_barge_using_subcommand create" -s w -l workdir -d 'Working directory inside the container' -r
complete -c barge -n "__fish_barge_using_subcommand create" -s u -l user -d 'Username or UID (format: name|uid[:group|gid])' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l group-add -d 'Add additional groups to join' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l entrypoint -d 'Overwrite the default ENTRYPOINT of the image ("" clears it)' -r
complete -c barge -n "__fish_barge_using_subcommand create" -s h -l hostname -d 'Container host name' -r
complete -c barge -n "__fish_barge_using_subcommand create" -s v -l volume -d 'Bind mount a volume: HOST-PATH:CONTAINER-PATH[:ro|rw] or NAME:CONTAINER-PATH[:ro]' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l mount -d 'Attach a mount: type=bind|volume|tmpfs,source=...,target=...[,readonly]' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l tmpfs -d 'Mount a tmpfs directory: PATH[:OPTIONS]' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l cap-add -d 'Add Linux capabilities' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l cap-drop -d 'Drop Linux capabilities' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l security-opt -d 'Security options: no-new-privileges, seccomp=unconfined, seccomp=FILE.json' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l ulimit -d 'Ulimit options: NAME=SOFT[:HARD]' -r
complete -c barge -n "__fish_barge_using_subcommand create" -s m -l memory -d 'Memory limit (e.g. 64m, 1g)' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l memory-swap -d 'Memory + swap limit (-1: unlimited swap)' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l cpus -d 'Number of CPUs' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l pids-limit -d 'Tune the container\'s pids limit (-1 for unlimited)' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l device -d 'Add a host device: HOST[:CONTAINER[:PERMISSIONS]]' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l network -d 'Network mode: bridge (the default), none or host' -r
complete -c barge -n "__fish_barge_using_subcommand create" -s p -l publish -d 'Publish a container\'s port to the host: [IP:][HOST:]CONTAINER[/tcp|udp], ranges allowed' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l add-host -d 'Add a line to /etc/hosts: NAME:IP' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l dns -d 'DNS server for /etc/resolv.conf (replaces the host\'s)' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l platform -d 'Platform the image must have, os/arch[/variant]' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l pull -d 'When to pull the image: missing (default), never, always' -r
complete -c barge -n "__fish_barge_using_subcommand create" -l sig-proxy -d 'Proxy received signals to the process' -r -f -a "true\t''
false\t''"
complete -c barge -n "__fish_barge_using_subcommand create" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand create" -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand create" -s d -l detach -d 'Run in the background and print the container ID'
complete -c barge -n "__fish_barge_using_subcommand create" -l rm -d 'Remove the container when it exits'
complete -c barge -n "__fish_barge_using_subcommand create" -s i -l interactive -d 'Keep STDIN open'
complete -c barge -n "__fish_barge_using_subcommand create" -s t -l tty -d 'Allocate a pseudo-TTY'
complete -c barge -n "__fish_barge_using_subcommand create" -l read-only -d 'Mount the container\'s root filesystem as read only'
complete -c barge -n "__fish_barge_using_subcommand create" -l privileged -d 'Give extended privileges to this container'
complete -c barge -n "__fish_barge_using_subcommand create" -s P -l publish-all -d 'Publish all the image\'s exposed ports to random host ports'
complete -c barge -n "__fish_barge_using_subcommand create" -l init -d 'Run an init inside the container that forwards signals and reaps processes'
complete -c barge -n "__fish_barge_using_subcommand create" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand create" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand start" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand start" -s a -l attach -d 'Attach: print the container\'s output and wait for it to end (exit with its code)'
complete -c barge -n "__fish_barge_using_subcommand start" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand start" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand start" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand stop" -s t -l time -d 'Seconds to wait before killing the container' -r
complete -c barge -n "__fish_barge_using_subcommand stop" -s s -l signal -d 'Signal to send first (default: the container\'s stop signal)' -r
complete -c barge -n "__fish_barge_using_subcommand stop" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand stop" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand stop" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand stop" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand kill" -s s -l signal -d 'Signal to send' -r
complete -c barge -n "__fish_barge_using_subcommand kill" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand kill" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand kill" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand kill" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand restart" -s t -l time -d 'Seconds to wait before killing the container' -r
complete -c barge -n "__fish_barge_using_subcommand restart" -s s -l signal -d 'Signal to send first (default: the container\'s stop signal)' -r
complete -c barge -n "__fish_barge_using_subcommand restart" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand restart" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand restart" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand restart" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand rm" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand rm" -s f -l force -d 'Kill and remove a running container'
complete -c barge -n "__fish_barge_using_subcommand rm" -s v -l volumes -d 'Remove the container\'s anonymous volumes too'
complete -c barge -n "__fish_barge_using_subcommand rm" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand rm" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand rm" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand ps" -s n -l last -d 'Show the N last created containers' -r
complete -c barge -n "__fish_barge_using_subcommand ps" -s f -l filter -d 'Filter: status=, name=, id=, ancestor=' -r
complete -c barge -n "__fish_barge_using_subcommand ps" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand ps" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand ps" -s a -l all -d 'Show all containers (default: running only)'
complete -c barge -n "__fish_barge_using_subcommand ps" -s q -l quiet -d 'Only show IDs'
complete -c barge -n "__fish_barge_using_subcommand ps" -s l -l latest -d 'Show the last created container'
complete -c barge -n "__fish_barge_using_subcommand ps" -l no-trunc -d 'Don\'t truncate output'
complete -c barge -n "__fish_barge_using_subcommand ps" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand ps" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand ps" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand exec" -s e -l env -d 'Set environment variables' -r
complete -c barge -n "__fish_barge_using_subcommand exec" -s u -l user -d 'Username or UID (format: name|uid[:group|gid])' -r
complete -c barge -n "__fish_barge_using_subcommand exec" -s w -l workdir -d 'Working directory inside the container' -r
complete -c barge -n "__fish_barge_using_subcommand exec" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand exec" -s d -l detach -d 'Detached: start the command and return'
complete -c barge -n "__fish_barge_using_subcommand exec" -s i -l interactive -d 'Keep STDIN open'
complete -c barge -n "__fish_barge_using_subcommand exec" -s t -l tty -d 'Allocate a pseudo-TTY'
complete -c barge -n "__fish_barge_using_subcommand exec" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand exec" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand exec" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand cp" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand cp" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand cp" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand cp" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand export" -s o -l output -d 'Write to FILE instead of standard output' -r
complete -c barge -n "__fish_barge_using_subcommand export" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand export" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand export" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand export" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand pause" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand pause" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand pause" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand pause" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand unpause" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand unpause" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand unpause" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand unpause" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand stats" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand stats" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand stats" -l no-stream -d 'Print one sample and exit (barge always does; the flag is accepted for Docker\'s sake)'
complete -c barge -n "__fish_barge_using_subcommand stats" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand stats" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand stats" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand logs" -s n -l tail -d 'Number of lines from the end ("all" for everything)' -r
complete -c barge -n "__fish_barge_using_subcommand logs" -l since -d 'Only lines since a time (RFC 3339) or a duration ago (10m, 1h)' -r
complete -c barge -n "__fish_barge_using_subcommand logs" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand logs" -s f -l follow -d 'Follow the output'
complete -c barge -n "__fish_barge_using_subcommand logs" -s t -l timestamps -d 'Show timestamps'
complete -c barge -n "__fish_barge_using_subcommand logs" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand logs" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand logs" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand wait" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand wait" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand wait" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand wait" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand rename" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand rename" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand rename" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand rename" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand top" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand top" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand top" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand top" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand port" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand port" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand port" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand port" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand container; and not __fish_seen_subcommand_from ls list prune inspect" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand container; and not __fish_seen_subcommand_from ls list prune inspect" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand container; and not __fish_seen_subcommand_from ls list prune inspect" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand container; and not __fish_seen_subcommand_from ls list prune inspect" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand container; and not __fish_seen_subcommand_from ls list prune inspect" -f -a "ls" -d 'List containers'
complete -c barge -n "__fish_barge_using_subcommand container; and not __fish_seen_subcommand_from ls list prune inspect" -f -a "list" -d 'List containers'
complete -c barge -n "__fish_barge_using_subcommand container; and not __fish_seen_subcommand_from ls list prune inspect" -f -a "prune" -d 'Remove all stopped containers'
complete -c barge -n "__fish_barge_using_subcommand container; and not __fish_seen_subcommand_from ls list prune inspect" -f -a "inspect" -d 'Show low-level information on containers, as JSON'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -s n -l last -d 'Show the N last created containers' -r
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -s f -l filter -d 'Filter: status=, name=, id=, ancestor=' -r
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -s a -l all -d 'Show all containers (default: running only)'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only show IDs'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -s l -l latest -d 'Show the last created container'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -l no-trunc -d 'Don\'t truncate output'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -s n -l last -d 'Show the N last created containers' -r
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -s f -l filter -d 'Filter: status=, name=, id=, ancestor=' -r
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -s a -l all -d 'Show all containers (default: running only)'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only show IDs'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -s l -l latest -d 'Show the last created container'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -l no-trunc -d 'Don\'t truncate output'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from prune" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not ask for confirmation'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from prune" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Go template applied to each object' -r
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from inspect" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from inspect" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand container; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand images" -l format -d 'Output: table, json (one object per line) or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand images" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand images" -s a -l all -d 'Show all images (barge keeps no intermediate images, so this is the default list)'
complete -c barge -n "__fish_barge_using_subcommand images" -s q -l quiet -d 'Only show image IDs'
complete -c barge -n "__fish_barge_using_subcommand images" -l digests -d 'Show digests'
complete -c barge -n "__fish_barge_using_subcommand images" -l no-trunc -d 'Don\'t truncate output'
complete -c barge -n "__fish_barge_using_subcommand images" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand images" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand images" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "ls" -d 'List images'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "list" -d 'List images'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "rm" -d 'Remove one or more images'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "remove" -d 'Remove one or more images'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "inspect" -d 'Show low-level information on images, as JSON'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "tag" -d 'Create a tag TARGET that refers to SOURCE'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "history" -d 'Show the history of an image'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "save" -d 'Save images to a docker save archive (tar)'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "import" -d 'Import an image archive or a root filesystem tarball'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "load" -d 'Import an image archive or a root filesystem tarball'
complete -c barge -n "__fish_barge_using_subcommand image; and not __fish_seen_subcommand_from ls list rm remove inspect tag history save import load prune" -f -a "prune" -d 'Remove dangling images and unreferenced layers and blobs'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from ls" -l format -d 'Output: table, json (one object per line) or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from ls" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from ls" -s a -l all -d 'Show all images (barge keeps no intermediate images, so this is the default list)'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only show image IDs'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from ls" -l digests -d 'Show digests'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from ls" -l no-trunc -d 'Don\'t truncate output'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from ls" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from list" -l format -d 'Output: table, json (one object per line) or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from list" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from list" -s a -l all -d 'Show all images (barge keeps no intermediate images, so this is the default list)'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only show image IDs'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from list" -l digests -d 'Show digests'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from list" -l no-trunc -d 'Don\'t truncate output'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from list" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from rm" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from rm" -s f -l force -d 'Remove an image with several tags by ID, without asking'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from rm" -l no-prune -d 'Accepted for Docker compatibility (barge never keeps untagged parents)'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from rm" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from remove" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from remove" -s f -l force -d 'Remove an image with several tags by ID, without asking'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from remove" -l no-prune -d 'Accepted for Docker compatibility (barge never keeps untagged parents)'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from remove" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Go template applied to each object, e.g. \'{{.Id}}\' or \'{{json .Config}}\'' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from inspect" -l type -d 'Object type: image or container' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from inspect" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from inspect" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from tag" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from tag" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from tag" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from tag" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from history" -s H -l human -d 'Print sizes and dates in human readable form' -r -f -a "true\t''
false\t''"
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from history" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from history" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from history" -l no-trunc -d 'Don\'t truncate output'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from history" -s q -l quiet -d 'Only show image IDs'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from history" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from save" -s o -l output -d 'Write to FILE ("-" for standard output) instead of standard output' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from save" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from save" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from save" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from save" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from import" -s i -l input -d 'Archive to read (as `docker load -i`)' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from import" -s t -l tag -d 'Add a tag to the imported image (repeatable)' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from import" -l platform -d 'Image to take from a multi-platform archive, os/arch[/variant]' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from import" -s m -l message -d 'History comment for a root filesystem import' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from import" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from import" -s q -l quiet -d 'No progress output'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from import" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from load" -s i -l input -d 'Archive to read (as `docker load -i`)' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from load" -s t -l tag -d 'Add a tag to the imported image (repeatable)' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from load" -l platform -d 'Image to take from a multi-platform archive, os/arch[/variant]' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from load" -s m -l message -d 'History comment for a root filesystem import' -r
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from load" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from load" -s q -l quiet -d 'No progress output'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from load" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from load" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from load" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from prune" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from prune" -s a -l all -d 'Remove all unused images, not just dangling ones'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not ask for confirmation'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from prune" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand image; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand rmi" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand rmi" -s f -l force -d 'Remove an image with several tags by ID, without asking'
complete -c barge -n "__fish_barge_using_subcommand rmi" -l no-prune -d 'Accepted for Docker compatibility (barge never keeps untagged parents)'
complete -c barge -n "__fish_barge_using_subcommand rmi" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand rmi" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand rmi" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand tag" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand tag" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand tag" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand tag" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand inspect" -s f -l format -d 'Go template applied to each object, e.g. \'{{.Id}}\' or \'{{json .Config}}\'' -r
complete -c barge -n "__fish_barge_using_subcommand inspect" -l type -d 'Object type: image or container' -r
complete -c barge -n "__fish_barge_using_subcommand inspect" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand inspect" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand history" -s H -l human -d 'Print sizes and dates in human readable form' -r -f -a "true\t''
false\t''"
complete -c barge -n "__fish_barge_using_subcommand history" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand history" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand history" -l no-trunc -d 'Don\'t truncate output'
complete -c barge -n "__fish_barge_using_subcommand history" -s q -l quiet -d 'Only show image IDs'
complete -c barge -n "__fish_barge_using_subcommand history" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand history" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand history" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand save" -s o -l output -d 'Write to FILE ("-" for standard output) instead of standard output' -r
complete -c barge -n "__fish_barge_using_subcommand save" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand save" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand save" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand save" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "create" -d 'Create a volume'
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "ls" -d 'List volumes'
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "list" -d 'List volumes'
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "rm" -d 'Remove one or more volumes'
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "remove" -d 'Remove one or more volumes'
complete -c barge -n "__fish_barge_using_subcommand volume; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "inspect" -d 'Show volumes as JSON'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from create" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from create" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from ls" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from ls" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only show volume names'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from ls" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from list" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from list" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only show volume names'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from list" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from rm" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from rm" -s f -l force -d 'Accepted for Docker compatibility'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from rm" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from remove" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from remove" -s f -l force -d 'Accepted for Docker compatibility'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from remove" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Go template applied to each volume' -r
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from inspect" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from inspect" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand volume; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "create" -d 'Create a bridge network; its containers reach each other by name'
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "ls" -d 'List networks'
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "list" -d 'List networks'
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "rm" -d 'Remove one or more networks'
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "remove" -d 'Remove one or more networks'
complete -c barge -n "__fish_barge_using_subcommand network; and not __fish_seen_subcommand_from create ls list rm remove inspect" -f -a "inspect" -d 'Show networks as JSON'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from create" -l subnet -d 'Subnet in CIDR form (default: the first free 10.86.N.0/24)' -r
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from create" -s d -l driver -d 'Driver: only bridge' -r
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from create" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from create" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from ls" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from ls" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only show network IDs'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from ls" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from list" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from list" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only show network IDs'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from list" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from rm" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from rm" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from remove" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from remove" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from inspect" -s f -l format -d 'Output: json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from inspect" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from inspect" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand network; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand system; and not __fish_seen_subcommand_from df" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand system; and not __fish_seen_subcommand_from df" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand system; and not __fish_seen_subcommand_from df" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand system; and not __fish_seen_subcommand_from df" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand system; and not __fish_seen_subcommand_from df" -f -a "df" -d 'Show disk usage'
complete -c barge -n "__fish_barge_using_subcommand system; and __fish_seen_subcommand_from df" -l format -d 'Output: table, json or a Go template' -r
complete -c barge -n "__fish_barge_using_subcommand system; and __fish_seen_subcommand_from df" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand system; and __fish_seen_subcommand_from df" -s v -l verbose -d 'Accepted for Docker compatibility; per-image detail comes later'
complete -c barge -n "__fish_barge_using_subcommand system; and __fish_seen_subcommand_from df" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand system; and __fish_seen_subcommand_from df" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand system; and __fish_seen_subcommand_from df" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -f -a "create" -d 'Create a container; its process waits for `start`'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -f -a "start" -d 'Start a created container'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -f -a "state" -d 'Print a container\'s state as JSON'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -f -a "kill" -d 'Send a signal (default SIGTERM) to a container'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -f -a "delete" -d 'Delete a stopped container'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -f -a "spec" -d 'Write a default config.json (Docker\'s defaults)'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -f -a "run" -d 'Create, start and wait for a container; exit with its code'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -f -a "exec" -d 'Run a process in a running container; exit with its code'
complete -c barge -n "__fish_barge_using_subcommand oci; and not __fish_seen_subcommand_from create start state kill delete spec run exec list" -f -a "list" -d 'List containers'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -s b -l bundle -d 'Bundle directory (holds config.json)' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l pid-file -d 'Write the init\'s pid to this file' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l console-socket -d 'Unix socket to send the terminal\'s master to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l preserve-fds -d 'Accepted for runc compatibility (must be 0)' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l no-pivot -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l no-new-keyring -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from start" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from start" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from start" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from start" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from start" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from state" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from state" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from state" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from state" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from state" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from state" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from state" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from kill" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from kill" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from kill" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from kill" -s a -l all -d 'Signal every process of the container'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from kill" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from kill" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from kill" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from kill" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from delete" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from delete" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from delete" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from delete" -s f -l force -d 'Kill the container first if it still runs'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from delete" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from delete" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from spec" -s b -l bundle -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from spec" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from spec" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from spec" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from spec" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from spec" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from spec" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from spec" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -s b -l bundle -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -l pid-file -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -l console-socket -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -l console-socket -d 'Unix socket to send the terminal\'s master to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -l cwd -d 'Working directory inside the container' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -s e -l env -d 'Set an environment variable (KEY=VALUE), on top of the container\'s' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -s u -l user -d 'User to run as: UID[:GID] (GID 0 when not given)' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -s g -l additional-gids -d 'Additional group ids (with --user)' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -s p -l process -d 'A process.json (args, env, cwd, user, terminal) instead of the command line' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -l pid-file -d 'Write the process\'s pid to this file' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -s t -l tty -d 'Give the process a terminal (its master goes to --console-socket)'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -s d -l detach -d 'Do not wait for the process'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from exec" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from list" -s f -l format -d 'table or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from list" -l root -d 'Directory for container state' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from list" -l log -d 'File to append error messages to' -r -F
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from list" -l log-format -d 'Format of --log: text or json' -r
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only print ids'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from list" -l systemd-cgroup -d 'Accepted for runc compatibility; barge manages cgroupfs directly'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from list" -l debug -d 'Accepted for runc compatibility'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand oci; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand __supervise" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand __supervise" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand __supervise" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand __supervise" -s V -l version -d 'Print version'
complete -c barge -n "__fish_barge_using_subcommand __generate" -l completions -d 'Directory for completions/' -r -F
complete -c barge -n "__fish_barge_using_subcommand __generate" -l man -d 'Directory for man pages (man1)' -r -F
complete -c barge -n "__fish_barge_using_subcommand __generate" -l root -d 'Store root (default /var/lib/barge as root, ~/.local/share/barge otherwise)' -r -F
complete -c barge -n "__fish_barge_using_subcommand __generate" -l debug -d 'Show the whole error chain'
complete -c barge -n "__fish_barge_using_subcommand __generate" -s h -l help -d 'Print help'
complete -c barge -n "__fish_barge_using_subcommand __generate" -s V -l version -d 'Print version'

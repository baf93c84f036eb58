# fish completion for greenrun: options, subcommands, region and cloud ids,
# files where options take files, and the wrapped command after the options.

function __greenrun_no_command
    # True until a word that is no option (the command, or a subcommand) is on the line.
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --
                return 1
            case '-*=*' -q --quiet -v --verbose --no-estimate --no-step-summary --require-live-intensity --live --no-embodied -V --version -h --help
                continue
            case '-*'
                set skip 1
                continue
            case '*'
                return 1
        end
    end
    return 0
end

complete -c greenrun -n __greenrun_no_command -f -a 'sensors regions report compare mark count progress plan config help' -d subcommand
complete -c greenrun -n __greenrun_no_command -a '(__fish_complete_command)'
complete -c greenrun -n '__fish_seen_subcommand_from help' -f -a '(greenrun help topics 2>/dev/null | string replace -r "^[a-z ]*:" "" | string split " " | string match -v "")' -d topic
complete -c greenrun -n 'not __greenrun_no_command' -a '(__fish_complete_subcommand --fcs-skip=1)'
complete -c greenrun -l config -r -F -d 'Settings file instead of ~/.config/greenrun/config'
complete -c greenrun -s i -l interval -x -d 'Sampling interval (250ms, 2s)'
complete -c greenrun -l scope -x -a 'process machine' -d 'Process share or whole machine'
complete -c greenrun -l tree -x -a 'auto cgroup proc' -d 'How the process tree is followed'
complete -c greenrun -s j -l json -r -F -d 'JSON report'
complete -c greenrun -l checkpoint -x -d 'Rewrite the JSON this often'
complete -c greenrun -l summary-file -r -F -d 'Summary to a file'
complete -c greenrun -s q -l quiet -d 'No summary'
complete -c greenrun -s v -l verbose -d 'Diagnostics on stderr'
complete -c greenrun -l log-level -x -a 'off debug trace' -d 'Diagnostics'
complete -c greenrun -l log-file -r -F -d 'Diagnostics to a file'
complete -c greenrun -l csv -r -F -d 'CodeCarbon emissions.csv row'
complete -c greenrun -l project -x -d 'project_name in the CSV'
complete -c greenrun -l experiment-id -x -d 'experiment_id in the CSV'
complete -c greenrun -l step-summary -r -F -d 'Markdown report'
complete -c greenrun -l no-step-summary -d 'No Markdown report'
complete -c greenrun -l metrics -r -F -d 'Prometheus metrics file'
complete -c greenrun -l metrics-format -x -a 'prometheus openmetrics' -d 'Metrics format'
complete -c greenrun -l pushgateway -x -d 'Pushgateway URL'
complete -c greenrun -l label -x -d 'Metrics label KEY=VALUE'
complete -c greenrun -l max-energy -x -d 'Energy budget (50kJ)'
complete -c greenrun -l max-emissions -x -d 'Emissions budget (20g)'
complete -c greenrun -l max-increase -x -d 'Most the energy may grow (10%)'
complete -c greenrun -l on-budget -x -a 'warn fail stop' -d 'What a budget does'
complete -c greenrun -l grace -x -d 'SIGKILL after'
complete -c greenrun -l baseline -r -F -d 'A previous JSON report'
complete -c greenrun -s r -l region -x -a '(greenrun regions --ids region 2>/dev/null)' -d 'Grid zone or country'
complete -c greenrun -l cloud -x -a '(greenrun regions --ids cloud 2>/dev/null)' -d 'Cloud region'
complete -c greenrun -l intensity -x -d 'Grid intensity in g/kWh'
complete -c greenrun -l intensity-file -r -F -d 'Hourly intensity'
complete -c greenrun -l pue -x -d 'Facility overhead'
complete -c greenrun -l emission-factor -x -a 'lifecycle direct' -d 'Emission factor'
complete -c greenrun -l compare -x -a '(greenrun regions --ids region 2>/dev/null)' -d 'Regions to compare with'
complete -c greenrun -l intensity-source -x -a 'electricitymaps: watttime: uk uk: file' -d 'Live grid data'
complete -c greenrun -l require-live-intensity -d 'Fail before the command without live data'
complete -c greenrun -l intensity-timeout -x -d 'Longest wait for a provider'
complete -c greenrun -l intensity-ttl -x -d 'Reuse a provider answer this long'
complete -c greenrun -l intensity-poll -x -d 'Check the intensity this often'
complete -c greenrun -l start-within -x -d 'Wait for the cleanest start within'
complete -c greenrun -l expected-duration -x -d 'How long the command runs'
complete -c greenrun -l pause-above -x -d 'Pause above this intensity (g/kWh)'
complete -c greenrun -l max-delay -x -d 'Most time paused'
complete -c greenrun -l pause-with -x -a 'stop SIGUSR1 SIGUSR2 SIGTSTP' -d 'How to pause'
complete -c greenrun -l html -r -F -d 'HTML report'
complete -c greenrun -l live -d 'Status line on the terminal'
complete -c greenrun -l progress -x -d 'A progress line this often'
complete -c greenrun -l instance-type -x -d 'Cloud instance type (m5.xlarge)'
complete -c greenrun -l embodied-kg -x -d 'Manufacturing emissions in kgCO2e'
complete -c greenrun -l lifetime -x -d 'Years the embodied emissions are spread over'
complete -c greenrun -l no-embodied -d 'No embodied emissions'
complete -c greenrun -l functional-unit -x -d 'SCI per this much work (1000:images)'
complete -c greenrun -l wue -x -d 'Water usage effectiveness in L/kWh'
complete -c greenrun -l no-estimate -d 'Measured figures only'
complete -c greenrun -l cpu-tdp -x -d 'CPU TDP in W'
complete -c greenrun -l cpu-model -x -d 'CPU model'
complete -c greenrun -l cpu-idle-w -x -d 'CPU watts at idle'
complete -c greenrun -l cpu-max-w -x -d 'CPU watts at full load'
complete -c greenrun -l ram-w-per-gb -x -d 'Memory watts per GB'
complete -c greenrun -l gpu-tdp -x -d 'GPU TDP in W'
complete -c greenrun -l nvml-lib -r -F -d 'NVML library'
complete -c greenrun -l rocm-lib -r -F -d 'ROCm SMI library'
complete -c greenrun -l dev-root -x -a '(__fish_complete_directories)' -d 'MSR devices under'
complete -c greenrun -l sysfs-root -x -a '(__fish_complete_directories)' -d 'Read instead of /sys'
complete -c greenrun -l procfs-root -x -a '(__fish_complete_directories)' -d 'Read instead of /proc'
complete -c greenrun -s V -l version -d 'Version and energy sources'
complete -c greenrun -s h -l help -d 'Help'

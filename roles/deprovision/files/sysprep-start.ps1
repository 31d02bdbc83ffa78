# goldenimage-step: sysprep-start
# Starts Sysprep through WMI, outside the WinRM shell's job object (closing the shell would kill it), and returns at
# once; the role then polls ImageState. Prints {"pid","command"}.
$ErrorActionPreference = 'Stop'
if (Get-Process -Name sysprep -ErrorAction SilentlyContinue) { throw 'Sysprep is already running' }
$SysprepCommand = "$env:SystemRoot\System32\Sysprep\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm"
$r = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{ CommandLine = $SysprepCommand }
if ($r.ReturnValue -ne 0) { throw "Win32_Process.Create failed with $($r.ReturnValue): $SysprepCommand" }
ConvertTo-Json -InputObject ([ordered]@{ pid = $r.ProcessId; command = $SysprepCommand }) -Compress

# goldenimage-step: build-account
# Removes the build account (or disables it with a random password: the built-in Administrator, RID 500, cannot be
# deleted) and deletes its profile. For the account this WinRM session runs as, a detached process does it once this
# PowerShell has exited plus `delay` seconds, so that WinRM can return this output; the role then checks that its
# logon is refused. Prints {"user","builtin","action","deferred","pid","exists","enabled"}.
$Config = '__CONFIG__' | ConvertFrom-Json
$ErrorActionPreference = 'Stop'
$u = Get-LocalUser -Name $Config.user
$sid = $u.SID.Value
$builtin = $sid.EndsWith('-500')
$action = if ($Config.action -eq 'remove' -and -not $builtin) { 'remove' } else { 'disable' }
$work = "`$ErrorActionPreference = 'Continue'`n"
if ($action -eq 'remove') { $work += "Remove-LocalUser -SID '$sid'`n" }
else {
    $work += "Set-LocalUser -SID '$sid' -Password (ConvertTo-SecureString ([guid]::NewGuid().ToString() + 'aA1!') -AsPlainText -Force)`n"
    $work += "Disable-LocalUser -SID '$sid'`n"
}
$work += "Get-CimInstance -ClassName Win32_UserProfile -Filter `"SID='$sid'`" | Remove-CimInstance`n"
$deferred = $u.Name -eq [Environment]::UserName
$procId = $null
if ($deferred) {
    $wait = "Wait-Process -Id $PID -ErrorAction SilentlyContinue; Start-Sleep -Seconds $([int]$Config.delay)`n"
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($wait + $work))
    $r = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{
        CommandLine = "powershell.exe -NoProfile -NonInteractive -EncodedCommand $encoded" }
    if ($r.ReturnValue -ne 0) { throw "Win32_Process.Create failed with $($r.ReturnValue)" }
    $procId = $r.ProcessId
} else { & ([scriptblock]::Create($work)) }
$now = Get-LocalUser -SID $sid -ErrorAction SilentlyContinue
ConvertTo-Json -Compress -InputObject ([ordered]@{ user = $u.Name; builtin = $builtin; action = $action
    deferred = $deferred; pid = $procId; exists = [bool]$now; enabled = [bool]($now -and $now.Enabled) })

# goldenimage-step: build-account-check
# Read-only: the build account's state, while a logon still works. Prints {"user","exists","enabled"}.
$Config = '__CONFIG__' | ConvertFrom-Json
$u = Get-LocalUser -Name $Config.user -ErrorAction SilentlyContinue
ConvertTo-Json -Compress -InputObject ([ordered]@{ user = $Config.user; exists = [bool]$u; enabled = [bool]($u -and $u.Enabled) })

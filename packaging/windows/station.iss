; Inno Setup 6 script: Station's Windows installer (Start-menu and desktop shortcuts).
;
; Built by `python packaging\build.py --installer`, which passes the version and the bundle:
;   ISCC.exe /DAppVersion=0.1.0 /DBundleDir=dist\station /Odist packaging\windows\station.iss
; The bundle holds stationw.exe (no console: what the shortcuts start) and station.exe
; (with a console: the command line, e.g. `station config import FILE`).

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=X.Y.Z
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\station"
#endif

[Setup]
; AppId identifies Station to Windows across versions: never change it.
AppId={{28183B43-38DF-44F2-BF04-E422AB2070C5}
AppName=Station
AppVersion={#AppVersion}
AppVerName=Station {#AppVersion}
AppPublisher=Station
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\Station
DefaultGroupName=Station
DisableProgramGroupPage=yes
; Per-user install without admin rights by default; the dialog offers all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputBaseFilename=Station-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\station.ico
UninstallDisplayIcon={app}\stationw.exe
UninstallDisplayName=Station
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; A running Station holds its files open: ask to close it before replacing them.
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; Files of an older version that this one no longer ships would otherwise be loaded by it.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\Station"; Filename: "{app}\stationw.exe"; WorkingDir: "{app}"; Comment: "TradingView alerts, strategies and orders"
Name: "{group}\Station Demo"; Filename: "{app}\stationw.exe"; Parameters: "--demo"; WorkingDir: "{app}"; Comment: "Paper broker and replayed sample data; needs no account"
Name: "{group}\{cm:UninstallProgram,Station}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Station"; Filename: "{app}\stationw.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\stationw.exe"; Description: "{cm:LaunchProgram,Station}"; Flags: nowait postinstall skipifsilent

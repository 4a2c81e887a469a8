package graphsim

// registerRoutes registers every Graph endpoint the simulator serves. Each resource family
// registers its own routes in its own file.
func (s *Server) registerRoutes() {
	s.userRoutes()
	s.deviceRoutes()
	s.authMethodRoutes()
	s.domainRoutes()
	s.mailRoutes()
	s.batchRoutes()
}

// Permission sets, any one of which grants a route.
var (
	permUserRead    = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUserRevoke  = []string{"User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	permUserWrite   = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	permUserEnable  = []string{"User.EnableDisableAccount.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	permUserUpdate  = []string{"User.ReadUpdate.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	permUserPwd     = []string{"User-PasswordProfile.ReadWrite.All", "Directory.ReadWrite.All"}
	permIntuneRead  = []string{"DeviceManagementManagedDevices.Read.All", "DeviceManagementManagedDevices.ReadWrite.All"}
	permIntuneWrite = []string{"DeviceManagementManagedDevices.ReadWrite.All"}
	permIntunePriv  = []string{"DeviceManagementManagedDevices.PrivilegedOperations.All"}
	permDeviceRead  = []string{"Device.Read.All", "Device.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permDeviceWrite = []string{"Device.ReadWrite.All", "Directory.ReadWrite.All"}
	permMethodRead  = []string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
	permMethodWrite = []string{"UserAuthenticationMethod.ReadWrite.All"}
	permTAPRead     = []string{"UserAuthMethod-TAP.Read.All", "UserAuthMethod-TAP.ReadWrite.All",
		"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
	permTAPWrite   = []string{"UserAuthMethod-TAP.ReadWrite.All", "UserAuthenticationMethod.ReadWrite.All"}
	permReports    = []string{"AuditLog.Read.All", "UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
	permDomainRead = []string{"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permDomainRW   = []string{"Domain.ReadWrite.All", "Directory.ReadWrite.All"}
	permMailSend   = []string{"Mail.Send"}
)

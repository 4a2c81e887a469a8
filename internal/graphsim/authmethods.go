package graphsim

import "time"

// props returns the Microsoft Authenticator method as Graph shows it.
func (a *AuthenticatorMethod) props() map[string]any {
	return map[string]any{
		"@odata.type":     "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
		"id":              a.ID,
		"displayName":     a.DisplayName,
		"deviceTag":       a.DeviceTag,
		"phoneAppVersion": a.PhoneAppVersion,
		"createdDateTime": timeString(a.Created),
	}
}

// props returns the Temporary Access Pass as Graph shows it on reads (the pass itself is
// null); now decides whether it is usable, or the zero time to skip that.
func (p *TAPMethod) props(now time.Time) map[string]any {
	usable, reason := true, "EnabledByPolicy"
	switch {
	case now.IsZero():
	case p.Used && p.IsUsableOnce:
		usable, reason = false, "OneTimeUsed"
	case now.Before(p.Start):
		usable, reason = false, "NotYetValid"
	case !now.Before(p.Start.Add(time.Duration(p.LifetimeInMinutes) * time.Minute)):
		usable, reason = false, "Expired"
	}
	return map[string]any{
		"@odata.type":           "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
		"id":                    p.ID,
		"createdDateTime":       timeString(p.Created),
		"startDateTime":         timeString(p.Start),
		"lifetimeInMinutes":     p.LifetimeInMinutes,
		"isUsableOnce":          p.IsUsableOnce,
		"isUsable":              usable,
		"methodUsabilityReason": reason,
		"temporaryAccessPass":   nil,
	}
}

func (s *Server) authMethodRoutes() {}
